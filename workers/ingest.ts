// Piscina entry point of the bulk build: parse, check, normalize and hash a batch of lines.
import { ingestBatch, type IngestTask } from '../src/index/ingest.js';

export default function ingest(task: IngestTask) {
  return ingestBatch(task);
}
