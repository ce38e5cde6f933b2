// Piscina entry point of the bulk build: parse, check, normalize and hash a batch of lines,
// or make and index a stretch of the synthetic population.
import { ingestBatch, type IngestTask } from '../src/index/ingest.js';
import { syntheticCitizens } from '../src/synth/generator.js';

export default function ingest(task: IngestTask) {
  return ingestBatch(task, syntheticCitizens);
}
