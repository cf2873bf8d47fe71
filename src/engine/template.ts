import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { InputError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';

const handlebars = Handlebars.create();
handlebars.registerHelper('join', (items: unknown[], separator: unknown) =>
  items.join(typeof separator === 'string' ? separator : ','),
);
handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name>.hbs in strict mode: a missing variable is an error, not an empty string. */
export function render(name: string, vars: object, root = join(PACKAGE_ROOT, 'templates')): string {
  const file = join(root, `${name}.hbs`);
  let template = cache.get(file);
  if (!template) {
    template = handlebars.compile(readFileSync(file, 'utf8'), { strict: true, noEscape: true });
    cache.set(file, template);
  }
  try {
    return template(vars);
  } catch (cause) {
    throw new InputError(`template ${name}: ${(cause as Error).message}`, [], { cause });
  }
}
