// A plain static file server for the fake upstream (test/e2e/support/upstream.ts):
// GET and HEAD with single byte ranges. Runs inside the test's Kindling namespace on
// its loopback, so nothing outside that namespace can reach it.
//   node static-server.mjs ROOT HOST PORT
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [root, host, port] = process.argv.slice(2);
http
  .createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const file = path.join(root, path.normalize(rel));
    let size;
    try {
      if (!file.startsWith(root) || !statSync(file).isFile()) throw new Error('not a file');
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end('not found\n');
      return;
    }
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    }
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file, { start, end }).pipe(res);
  })
  .listen(Number(port), host, () => process.stdout.write(`listening on ${host}:${port}\n`));
