import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryJsonSchema } from '../src/inventory/json-schema.js';

const file = join(import.meta.dirname, '..', 'schema', 'inventory.schema.json');
writeFileSync(file, inventoryJsonSchema());
process.stdout.write(`wrote ${file}\n`);
