import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { componentsAjv, withComponentIds } from '../../src/contract/ajv.js';
import { openApiDocument } from '../../src/contract/openapi.js';
import type { Reply } from './server.js';

// ajv-formats is CommonJS: under NodeNext its function is the default export's `default`.
const addFormats = (addFormatsModule as unknown as { default: (ajv: unknown, formats: string[]) => void }).default;

type Doc = ReturnType<typeof openApiDocument>;
type Json = Record<string, any>;


/**
 * Real answers checked against an OpenAPI document with ajv, a full JSON Schema 2020-12
 * validator (strict: a keyword it does not know fails the compile rather than being
 * skipped), the contract's formats and the standard ones (date-time).
 */
export class ContractChecker {
  private readonly ajv: ReturnType<typeof componentsAjv>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: Doc = openApiDocument(DEFAULTS)) {
    this.ajv = componentsAjv(doc.components.schemas as Record<string, object>);
    addFormats(this.ajv, ['date-time']);
    // Compiled now, every one: a schema ajv cannot compile fails here, not in the first test that meets it.
    for (const name of Object.keys(doc.components.schemas)) this.ajv.getSchema(name);
  }

  /** The problems of a body as the answer of an operation with this status; none when it conforms. */
  problems(path: string, method: 'get' | 'post', status: number, body: unknown): string[] {
    const operation = (this.doc.paths as Json)[path]?.[method];
    if (!operation) return [`${method.toUpperCase()} ${path} is not in the document`];
    const response = operation.responses[String(status)];
    if (!response) return [`${method.toUpperCase()} ${path} does not document status ${status}`];
    const key = `${method} ${path} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) this.compiled.set(key, (validate = this.ajv.compile(withComponentIds(response.content['application/json'].schema) as object)));
    return validate(body) ? [] : validate.errors!.map((e) => `${e.instancePath || '$'} ${e.message}`);
  }

  /** A schema of the components by name, checked against a value. */
  schemaProblems(name: string, value: unknown): string[] {
    const validate = this.ajv.getSchema(name)!;
    return validate(value) ? [] : validate.errors!.map((e) => `${e.instancePath || '$'} ${e.message}`);
  }

  /** Expects the reply to follow the document; returns it. */
  conforms(reply: Reply, path: string, method: 'get' | 'post'): Reply {
    expect(this.problems(path, method, reply.status, reply.body)).toEqual([]);
    return reply;
  }
}

/** The checker of the document a server with the default config serves. */
export const CONTRACT = new ContractChecker();
