import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryJsonSchema } from '../src/inventory/json-schema.js';
import { verifyReportJsonSchema } from '../src/verify/report.js';

const schemas: [string, string][] = [
  ['inventory.schema.json', inventoryJsonSchema()],
  ['verify-report.schema.json', verifyReportJsonSchema()],
];
for (const [name, content] of schemas) {
  const file = join(import.meta.dirname, '..', 'schema', name);
  writeFileSync(file, content);
  process.stdout.write(`wrote ${file}\n`);
}
