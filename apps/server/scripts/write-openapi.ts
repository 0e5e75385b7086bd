// Regenerates openapi/openapi.json from the route schemas: `npm run openapi -w apps/server`.
import fs from 'node:fs';
import { generateOpenApi } from '../src/openapi.js';

const target = new URL('../../../openapi/openapi.json', import.meta.url);
fs.writeFileSync(target, await generateOpenApi());
console.log(`wrote ${target.pathname}`);
