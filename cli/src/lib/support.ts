/**
 * Which kernels gs-kit supports, as lkm/kernels.json says: the one place
 * that lists the patched series and the kernels stock mode hooks. The
 * module's Kbuild reads the same file; a test holds README.md to it.
 */
import support from '../../../lkm/kernels.json' with { type: 'json' };

export interface Support {
  /** The series with a gs-kit patch (kernel/patches/<series>), oldest first. */
  patched: readonly string[];
  /** The patched series `make test` boots: the oldest and the newest (`make test-kernels` boots every one). */
  patchedTested: readonly string[];
  /** Stock mode hooks Linux stockFrom to stockTo ("major.minor"), with stockNeeds set. */
  stockFrom: string;
  stockTo: string;
  stockNeeds: readonly string[];
  /** The distribution kernels `make test` boots in stock mode: the oldest and the newest. */
  stockTested: readonly string[];
}

export const SUPPORT: Support = {
  patched: support.patched,
  patchedTested: support.patched_tested,
  stockFrom: support.stock_from,
  stockTo: support.stock_to,
  stockNeeds: support.stock_needs,
  stockTested: support.stock_tested,
};

/** "major.minor" as a number that orders series: 6.12 > 6.9. */
export function seriesOrder(series: string): number {
  const m = /^(\d+)\.(\d+)/.exec(series);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : Number.NaN;
}

/** Stock mode hooks the series of @release (e.g. "6.12.117+deb13-amd64"). */
export function stockHooksSeries(release: string, s: Support = SUPPORT): boolean {
  const n = seriesOrder(release);
  return n >= seriesOrder(s.stockFrom) && n <= seriesOrder(s.stockTo);
}

/** "6.1 to 6.12", as the module's own refusal says it. */
export function stockRange(s: Support = SUPPORT): string {
  return `${s.stockFrom} to ${s.stockTo}`;
}

/** @items as a sentence lists them: "a, b and c" (@last: " or "). */
export function listWords(items: readonly string[], last = ' and '): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')}${last}${items.at(-1)}` : (items[0] ?? '');
}

/** "5.4, 6.1 and 6.12". */
export function patchedList(s: Support = SUPPORT): string {
  return listWords(s.patched);
}
