#!/usr/bin/env node
// bench/files: what a large file upload and download cost the server's memory. A file of SIZE
// bytes (default 1 GiB, generated as it is sent, never held here either) is PUT to a run's files
// over HTTP, then downloaded whole and as a Range; for each, the server's peak RSS during the
// request (Linux VmHWM, reset through /proc/PID/clear_refs) minus its RSS before it, and the rate.
// The target (issue #18): ≤ 50 MB added for a 1 GB upload and download each.
//   node bench/files/run.mjs [--mb N]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { createExperiment, startTora } from '../lib/tora-server.mjs';

const flag = process.argv.indexOf('--mb');
const SIZE = (flag > 0 ? Number(process.argv[flag + 1]) : 1024) * 1024 * 1024;
const CHUNK = 1024 * 1024;

const status = (pid) => fs.readFileSync(`/proc/${pid}/status`, 'utf8');
const kb = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)[1]);

/** SIZE bytes, chunk by chunk (each chunk differs, so nothing compresses or dedups). */
function body() {
  let sent = 0;
  const chunk = Buffer.alloc(CHUNK);
  return new Readable({
    read() {
      if (sent >= SIZE) return this.push(null);
      const n = Math.min(CHUNK, SIZE - sent);
      chunk.writeUInt32LE(sent / CHUNK, 0);
      sent += n;
      this.push(Buffer.from(chunk.subarray(0, n)));
    },
  });
}

function expectedSha() {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(CHUNK);
  for (let sent = 0; sent < SIZE; sent += CHUNK) {
    chunk.writeUInt32LE(sent / CHUNK, 0);
    hash.update(chunk.subarray(0, Math.min(CHUNK, SIZE - sent)));
  }
  return hash.digest('hex');
}

function request(server, method, path, { headers = {}, upload } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.base);
    const req = http.request(
      {
        method,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: { 'x-api-key': server.key, ...headers },
      },
      (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        const small = [];
        res.on('data', (c) => {
          bytes += c.length;
          hash.update(c);
          if (bytes < 1e6) small.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, bytes, sha256: hash.digest('hex'), text: Buffer.concat(small).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (upload) upload.pipe(req);
    else req.end();
  });
}

async function measure(server, label, run) {
  await new Promise((r) => setTimeout(r, 300));
  fs.writeFileSync(`/proc/${server.pid}/clear_refs`, '5'); // resets the peak to the current RSS
  const before = kb(status(server.pid), 'VmRSS');
  const t0 = performance.now();
  const res = await run();
  const s = (performance.now() - t0) / 1000;
  const added = (kb(status(server.pid), 'VmHWM') - before) / 1024;
  const moved = res.bytes > 1e6 ? res.bytes : SIZE; // a download's body, or the upload's
  console.log(
    `${label.padEnd(34)} ${String(res.status).padEnd(4)} ${(res.bytes / 2 ** 20).toFixed(0).padStart(6)} MiB body ` +
      `${s.toFixed(1).padStart(6)} s ${(moved / 2 ** 20 / s).toFixed(0).padStart(5)} MiB/s  +${added.toFixed(1)} MB peak RSS`,
  );
  return res;
}

const server = await startTora();
try {
  const id = await createExperiment(server, 'files-bench');
  const path = `/api/experiments/${id}/files/ckpt/big.bin`;
  console.log(
    `${(SIZE / 2 ** 20).toFixed(0)} MiB file, server pid ${server.pid}, RSS ${(kb(status(server.pid), 'VmRSS') / 1024).toFixed(0)} MB at start`,
  );
  const put = await measure(server, 'PUT (streamed, chunked)', () =>
    request(server, 'PUT', path, {
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      upload: body(),
    }),
  );
  const stored = JSON.parse(put.text).file;
  const want = expectedSha();
  if (stored.size !== SIZE || stored.sha256 !== want) throw new Error(`stored ${JSON.stringify(stored)}, expected sha ${want}`);
  const got = await measure(server, 'GET (whole)', () => request(server, 'GET', path));
  if (got.bytes !== SIZE || got.sha256 !== want) throw new Error('download differs');
  const half = await measure(server, 'GET Range: second half', () =>
    request(server, 'GET', path, { headers: { range: `bytes=${SIZE / 2}-` } }),
  );
  if (half.status !== 206 || half.bytes !== SIZE / 2) throw new Error(`range: ${half.status} ${half.bytes}`);
} finally {
  await server.stop();
}
