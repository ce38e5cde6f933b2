// Piscina entry point of `idv check`: compares a piece of a source file with the build it names.
import { workerData } from 'node:worker_threads';
import { compareWork, type CheckTask } from '../src/index/check.js';
import { IndexReader } from '../src/index/reader.js';
import { Secret } from '../src/index/secret.js';
import { answeringPing } from '../src/workers.js';

const { buildPath, secretHex, rejectedLines } = workerData as { buildPath: string; secretHex: string; rejectedLines: number[] };
const reader = IndexReader.openBuild(buildPath, Secret.fromHex(secretHex), { values: 'either' });
const rejected = new Set(rejectedLines);

export default answeringPing((task: CheckTask) => compareWork(reader, task, rejected));
