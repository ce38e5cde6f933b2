import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import { FORMATS, type FormatName } from './formats.js';

/**
 * An ajv instance that knows the contract's formats and its `x-rule` annotation: the
 * server's validators and the tests' checks of real answers compile from the same schemas
 * with it. `allErrors`: the validator reports the first problem in the order of the
 * fields, not in the order ajv meets keywords (it costs nothing on a valid body, where
 * every keyword runs anyway).
 */
export function contractAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, ...options });
  for (const [name, format] of Object.entries(FORMATS) as [FormatName, (typeof FORMATS)[FormatName]][]) {
    ajv.addFormat(name, { type: 'string', validate: (value: string) => format.why(value) === undefined });
  }
  ajv.addKeyword({ keyword: 'x-rule', schemaType: 'string' });
  return ajv;
}
