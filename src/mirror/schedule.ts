import { schedule as cronSchedule, validate } from 'node-cron';
import { KindlingError } from '../errors.js';

export interface Schedule {
  stop(): void;
  nextRun(): Date | null;
}

export function checkSchedule(expression: string): void {
  if (!validate(expression)) {
    throw new KindlingError(
      'MIRROR_SCHEDULE_INVALID',
      `mirror.schedule: expected a cron expression such as "17 3 * * *" (minute hour ` +
        `day month weekday), found ${JSON.stringify(expression)}`,
      { key: 'mirror.schedule' },
    );
  }
}

/**
 * Calls `run` on the cron expression. `run` must return at once (the mirror starts the
 * sync in the background and refuses a second one while the first is running);
 * noOverlap is a second guard. unref: a schedule alone never keeps the process up.
 */
export function startSchedule(expression: string, run: () => void): Schedule {
  checkSchedule(expression);
  const task = cronSchedule(expression, () => run(), { name: 'kindling-mirror-sync', noOverlap: true, unref: true });
  return {
    stop: () => void task.destroy(),
    nextRun: () => task.getNextRun(),
  };
}
