// Piscina entry point of `idv gen`: one stretch of the synthetic population as NDJSON text.
import { syntheticCitizens } from '../src/synth/generator.js';

export default function synth(task: { seed: number; start: number; count: number }): string {
  let text = '';
  for (const citizen of syntheticCitizens(task.seed, task.start, task.count)) text += JSON.stringify(citizen) + '\n';
  return text;
}
