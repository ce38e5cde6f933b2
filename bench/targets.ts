/** The targets of the national-scale issue, and the lenient ones of the CI smoke run. */
export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  key: string;
  name: string;
  unit: string;
  value: number;
  target?: Target;
  pass?: boolean;
  note?: string;
}

const GiB = 1024 ** 3;

export const TARGETS: Record<string, Target> = {
  buildSeconds: { op: '<=', value: 15 * 60 },
  buildPeakAnonBytes: { op: '<=', value: 8 * GiB },
  bytesPerCitizen: { op: '<=', value: 12e9 / 98e6 }, // 12 GB for 98M citizens
  startToReadySeconds: { op: '<=', value: 2 },
  verifyPeak: { op: '>=', value: 40_000 },
  verifyP99At20k: { op: '<=', value: 5 },
  demographicPeak: { op: '>=', value: 15_000 },
  demographicP99At7500: { op: '<=', value: 10 },
  batchItemsPerSecond: { op: '>=', value: 200_000 },
  overloadAcceptedP99: { op: '<=', value: 20 },
  overloadOfferedRatio: { op: '>=', value: 2 },
  overloadMemoryGrowthBytes: { op: '<=', value: 64 * 1024 ** 2 },
  overloadRefusedShare: { op: '>=', value: 0.01 },
  overloadSurvived: { op: '>=', value: 1 },
  ceilingRatio: { op: '>=', value: 0.5 },
};

/** CI: a small index on a busy runner. Only catches a suite that no longer works. */
export const SMOKE_TARGETS: Record<string, Target> = {
  ...TARGETS,
  buildSeconds: { op: '<=', value: 600 },
  // 20,000 citizens: LMDB's fixed pages and the metadata weigh ~1 byte a citizen more than at scale.
  bytesPerCitizen: { op: '<=', value: 140 },
  verifyPeak: { op: '>=', value: 2_000 },
  verifyP99At20k: { op: '<=', value: 100 },
  demographicPeak: { op: '>=', value: 1_000 },
  demographicP99At7500: { op: '<=', value: 200 },
  batchItemsPerSecond: { op: '>=', value: 10_000 },
  overloadAcceptedP99: { op: '<=', value: 500 },
  overloadOfferedRatio: { op: '>=', value: 0 },
  overloadRefusedShare: { op: '>=', value: 0 },
  overloadMemoryGrowthBytes: { op: '<=', value: 512 * 1024 ** 2 },
  ceilingRatio: { op: '>=', value: 0.1 },
};

export function check(figure: Figure, targets: Record<string, Target>): Figure {
  const target = targets[figure.key];
  if (!target || Number.isNaN(figure.value)) return figure;
  const pass = target.op === '>=' ? figure.value >= target.value : figure.value <= target.value;
  return { ...figure, target, pass };
}
