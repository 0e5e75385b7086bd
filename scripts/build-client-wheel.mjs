// Builds the Python client (clients/python) into a wheel — a zip file, written here without Python
// or network — that the server offers at /api/client, so `pip install http://<server>/api/client/<wheel>`
// installs the client matching the server. Deterministic: same sources, same bytes.
// Usage: node scripts/build-client-wheel.mjs [OUT_DIR]   (default apps/server/dist/client)
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = path.join(ROOT, 'clients/python');

/** The few [project] fields of pyproject.toml a wheel needs (flat `key = "value"` lines only). */
function project(text) {
  const out = { scripts: {} };
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const kv = /^([\w-]+)\s*=\s*"([^"]*)"\s*$/.exec(line);
    if (!kv) continue;
    if (section === 'project') out[kv[1]] = kv[2];
    if (section === 'project.scripts') out.scripts[kv[1]] = kv[2];
  }
  for (const key of ['name', 'version']) if (!out[key]) throw new Error(`pyproject.toml: [project] ${key} is missing`);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of [name, bytes] entries, deflated, dated 1980-01-01 (reproducible). */
function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const packed = zlib.deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made on Unix, zip 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function packageFiles(dir, prefix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === '__pycache__' || entry.name.endsWith('.egg-info')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...packageFiles(full, `${prefix}${entry.name}/`));
    else if (entry.name.endsWith('.py') || entry.name === 'py.typed') out.push([`${prefix}${entry.name}`, fs.readFileSync(full)]);
  }
  return out;
}

const recordHash = (data) => `sha256=${createHash('sha256').update(data).digest('base64url')}`;

/** Writes the wheel into `outDir` (removing older ones there) and returns its file name. */
export function buildClientWheel(outDir) {
  const meta = project(fs.readFileSync(path.join(CLIENT, 'pyproject.toml'), 'utf8'));
  const dist = meta.name.replace(/[-_.]+/g, '_').toLowerCase();
  const info = `${dist}-${meta.version}.dist-info`;
  const readme = fs.readFileSync(path.join(CLIENT, 'README.md'), 'utf8');
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${meta.name}`,
    `Version: ${meta.version}`,
    ...(meta.description ? [`Summary: ${meta.description}`] : []),
    ...(meta['requires-python'] ? [`Requires-Python: ${meta['requires-python']}`] : []),
    'Description-Content-Type: text/markdown',
    '',
    readme,
  ].join('\n');
  const scripts = Object.entries(meta.scripts).map(([name, target]) => `${name} = ${target}`);
  const files = [
    ...packageFiles(path.join(CLIENT, 'src/tora'), 'tora/'),
    [`${info}/METADATA`, Buffer.from(metadata)],
    [
      `${info}/WHEEL`,
      Buffer.from(
        'Wheel-Version: 1.0\nGenerator: tora scripts/build-client-wheel.mjs\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
      ),
    ],
    ...(scripts.length ? [[`${info}/entry_points.txt`, Buffer.from(`[console_scripts]\n${scripts.join('\n')}\n`)]] : []),
  ];
  const record = [...files.map(([name, data]) => `${name},${recordHash(data)},${data.length}`), `${info}/RECORD,,`, ''].join(
    '\n',
  );
  files.push([`${info}/RECORD`, Buffer.from(record)]);
  const file = `${dist}-${meta.version}-py3-none-any.whl`;
  fs.mkdirSync(outDir, { recursive: true });
  for (const old of fs.readdirSync(outDir)) if (old.endsWith('.whl') && old !== file) fs.rmSync(path.join(outDir, old));
  const tmp = path.join(outDir, `${file}.tmp`);
  fs.writeFileSync(tmp, zip(files));
  fs.renameSync(tmp, path.join(outDir, file));
  return file;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = path.resolve(process.argv[2] ?? path.join(ROOT, 'apps/server/dist/client'));
  console.log(path.join(outDir, buildClientWheel(outDir)));
}
