/**
 * `make` with its results kept, for values made again and again from few inputs (a name's
 * words, a coded name). Bounded: once `max` are kept, all are dropped and kept afresh, as
 * inputs may come from claims holding anything; cheaper than ordering entries by use.
 */
export function memo<K, V>(make: (key: K) => V, max: number): (key: K) => V {
  const kept = new Map<K, V>();
  return (key) => {
    let value = kept.get(key);
    if (value === undefined) {
      if (kept.size >= max) kept.clear();
      kept.set(key, (value = make(key)));
    }
    return value;
  };
}
