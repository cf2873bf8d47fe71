import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryJsonSchema } from '../../../src/inventory/json-schema.js';

describe('schema/inventory.schema.json', () => {
  it('is what the zod schema generates (run npm run schema after changing the schema)', () => {
    const committed = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'schema', 'inventory.schema.json'),
      'utf8',
    );
    expect(committed).toBe(inventoryJsonSchema());
  });

  it('documents defaults and forbids unknown keys', () => {
    const schema = JSON.parse(inventoryJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.ssh.properties.hostKeyPolicy.default).toBe('accept-new');
    expect(schema.required).toEqual(expect.arrayContaining(['cluster', 'hosts']));
  });
});
