/**
 * Runs async tasks one at a time, in the order they were queued. A read-modify-write
 * of a file inside `run` cannot interleave with another, so no acknowledged change is
 * lost to a concurrent one. A failed task does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
