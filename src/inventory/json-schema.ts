import { z } from 'zod';
import { inventorySchema } from './schema.js';

/** The inventory's JSON Schema, generated from the zod schema (schema/inventory.schema.json; editors use it). */
export function inventoryJsonSchema(): string {
  const schema = z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'kubesmith inventory' }, null, 2)}\n`;
}
