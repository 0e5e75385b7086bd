import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';

/** The OpenAPI document generated from the route schemas, without listening or touching real data. */
export async function generateOpenApi(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-openapi-'));
  const config = loadConfig({ TORA_DATA_DIR: dataDir, TORA_LOG_LEVEL: 'silent' });
  const database = openDatabase(config);
  try {
    const app = await buildApp(config, { database, logger: false });
    await app.ready();
    const doc = JSON.stringify(app.swagger(), null, 2) + '\n';
    await app.close();
    return doc;
  } finally {
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
