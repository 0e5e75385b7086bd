import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/**
 * The URL clients reach this server at: `TORA_PUBLIC_URL` when set, else the listening address
 * (a wildcard bind reached over loopback).
 */
export function clientServerUrl(config: Config): string {
  if (config.publicUrl !== null) return config.publicUrl;
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export function clientConfigFile(config: Config): string {
  return path.join(config.clientConfigDir, 'config.json');
}

/** What an existing client config file holds (`null` when there is none; unreadable ones count as present). */
export function readClientConfig(file: string): { serverUrl: string | null; apiKey: string | null } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { server_url?: unknown; api_key?: unknown };
    return {
      serverUrl: typeof parsed.server_url === 'string' ? parsed.server_url : null,
      apiKey: typeof parsed.api_key === 'string' ? parsed.api_key : null,
    };
  } catch {
    return { serverUrl: null, apiKey: null };
  }
}

/**
 * Writes the Python client's config file (`{"server_url", "api_key"}`, owner-only, replaced
 * atomically), the way `python -m tora login` would.
 */
export function writeClientConfig(file: string, serverUrl: string, apiKey: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ server_url: serverUrl, api_key: apiKey }, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
