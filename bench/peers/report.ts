// Turns the peer benchmark's samples into rows (median over rounds, spread, latency from
// the histograms of all rounds merged), ratios Brook/peer per row, and the markdown text
// printed at the end and written beside the JSON result.

import * as hdr from 'hdr-histogram-js';
import { LatencySummary, summarise } from '../lib/load';
import { newHistogram, ProduceOutcome } from './workload';

export interface Sample {
  phase: string;
  system: string;
  row: string;
  recordBytes: number;
  producers: number;
  round: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  errors: Record<string, number>;
  latency: LatencySummary | null;
  /** CPU use during the sample, 100 = one core. */
  cpuPercent: { server: number; client: number; machine: number; others: number };
  detail: Record<string, unknown>;
}

export interface RowSummary {
  phase: string;
  system: string;
  row: string;
  recordBytes: number;
  producers: number;
  samples: number;
  recordsPerSecondMedian: number;
  recordsPerSecondMin: number;
  recordsPerSecondMax: number;
  recordsPerSecondPerRound: number[];
  megabytesPerSecondMedian: number;
  /** Over all rounds merged; null where the client reports no latency (kcat). */
  latency: LatencySummary | null;
  errors: Record<string, number>;
  cpuPercentMean: { server: number; client: number; others: number };
}

export interface Ratio {
  row: string;
  brook: string;
  peer: string;
  /** Brook's median records/s over the peer's. */
  ratio: number;
  /** The same ratio per round (the two samples of one round ran minutes apart at most). */
  perRound: number[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Collects the samples of each (system, row), with their histograms merged. */
export class Collector {
  readonly samples: Sample[] = [];
  private readonly histograms = new Map<string, hdr.Histogram>();

  add(
    sample: Omit<Sample, 'latency' | 'recordsPerSecond' | 'megabytesPerSecond'>,
    outcome: ProduceOutcome,
    hasLatency: boolean,
  ): Sample {
    const full: Sample = {
      ...sample,
      recordsPerSecond: outcome.records / outcome.seconds,
      megabytesPerSecond: (outcome.records * sample.recordBytes) / outcome.seconds / 1e6,
      latency: hasLatency ? summarise(outcome.histogram) : null,
    };
    this.samples.push(full);
    if (hasLatency) {
      const key = `${sample.system}|${sample.row}`;
      if (!this.histograms.has(key)) this.histograms.set(key, newHistogram());
      this.histograms.get(key)!.add(outcome.histogram);
    }
    return full;
  }

  rows(): RowSummary[] {
    const groups = new Map<string, Sample[]>();
    for (const s of this.samples) {
      const key = `${s.system}|${s.row}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(s);
    }
    return [...groups].map(([key, samples]) => {
      const rates = samples.map((s) => s.recordsPerSecond);
      const errors: Record<string, number> = {};
      for (const s of samples) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
      const mean = (pick: (s: Sample) => number) =>
        Math.round(samples.reduce((sum, s) => sum + pick(s), 0) / samples.length);
      const histogram = this.histograms.get(key);
      const first = samples[0];
      return {
        phase: first.phase,
        system: first.system,
        row: first.row,
        recordBytes: first.recordBytes,
        producers: first.producers,
        samples: samples.length,
        recordsPerSecondMedian: median(rates),
        recordsPerSecondMin: Math.min(...rates),
        recordsPerSecondMax: Math.max(...rates),
        recordsPerSecondPerRound: rates,
        megabytesPerSecondMedian: (median(rates) * first.recordBytes) / 1e6,
        latency: histogram ? summarise(histogram) : null,
        errors,
        cpuPercentMean: {
          server: mean((s) => s.cpuPercent.server),
          client: mean((s) => s.cpuPercent.client),
          others: mean((s) => s.cpuPercent.others),
        },
      };
    });
  }

  ratio(row: string, brook: string, peer: string): Ratio | null {
    const of = (system: string) =>
      this.samples.filter((s) => s.system === system && s.row === row).sort((a, b) => a.round - b.round);
    const mine = of(brook);
    const theirs = of(peer);
    if (mine.length === 0 || theirs.length === 0) return null;
    const perRound = mine.flatMap((s) => {
      const other = theirs.find((t) => t.round === s.round);
      return other ? [s.recordsPerSecond / other.recordsPerSecond] : [];
    });
    return {
      row,
      brook,
      peer,
      ratio: median(mine.map((s) => s.recordsPerSecond)) / median(theirs.map((s) => s.recordsPerSecond)),
      perRound,
    };
  }
}

const ms = (value: number | undefined) =>
  value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1);

export function rowsTable(rows: RowSummary[]): string[] {
  return [
    '| system | row | msgs/s (median) | MB/s | msgs/s min-max | p50 ms | p99 ms | p99.9 ms | max ms | errors | CPU % server/client/others |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => {
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      const c = r.cpuPercentMean;
      return `| ${r.system} | ${r.row} | ${Math.round(r.recordsPerSecondMedian).toLocaleString('en')} | ${r.megabytesPerSecondMedian.toFixed(1)} | ${Math.round(r.recordsPerSecondMin).toLocaleString('en')}-${Math.round(r.recordsPerSecondMax).toLocaleString('en')} | ${ms(r.latency?.p50Ms)} | ${ms(r.latency?.p99Ms)} | ${ms(r.latency?.p999Ms)} | ${ms(r.latency?.maxMs)} | ${errors} | ${c.server}/${c.client}/${c.others} |`;
    }),
  ];
}

function ahead(r: Ratio): string {
  if (r.ratio <= 1) return r.perRound.some((v) => v > 1) ? 'no (ahead in some rounds)' : 'no';
  return r.perRound.every((v) => v > 1) ? 'yes, every round' : 'yes (not every round)';
}

export function ratiosTable(ratios: Ratio[]): string[] {
  return [
    '| row | Brook | peer | Brook/peer (median msgs/s) | per round | ahead? |',
    '|---|---|---|---:|---|---|',
    ...ratios.map(
      (r) =>
        `| ${r.row} | ${r.brook} | ${r.peer} | ${r.ratio.toFixed(2)} | ${r.perRound.map((v) => v.toFixed(2)).join(', ')} | ${ahead(r)} |`,
    ),
  ];
}

// ---- Consumer rows: reading back a sample's stream from its start, as fast as it goes. ----

export interface ConsumeSample {
  phase: string;
  /** The system that read (its consumer); `producedBy` is the system whose sample it read. */
  system: string;
  row: string;
  recordBytes: number;
  round: number;
  records: number;
  expected: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
}

export interface ConsumeRow {
  phase: string;
  system: string;
  row: string;
  recordBytes: number;
  samples: number;
  recordsPerSecondMedian: number;
  recordsPerSecondPerRound: number[];
  megabytesPerSecondMedian: number;
  /** Records read over records stored, all rounds: 1 when every read-back was complete. */
  complete: number;
}

export class ConsumeCollector {
  readonly samples: ConsumeSample[] = [];

  add(sample: Omit<ConsumeSample, 'recordsPerSecond' | 'megabytesPerSecond'>): ConsumeSample {
    const seconds = Math.max(sample.seconds, 1e-6);
    const full = {
      ...sample,
      recordsPerSecond: sample.records / seconds,
      megabytesPerSecond: (sample.records * sample.recordBytes) / seconds / 1e6,
    };
    this.samples.push(full);
    return full;
  }

  rows(): ConsumeRow[] {
    const groups = new Map<string, ConsumeSample[]>();
    for (const s of this.samples) {
      const key = `${s.phase}|${s.system}|${s.row}`;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    return [...groups.values()].map((list) => ({
      phase: list[0].phase,
      system: list[0].system,
      row: list[0].row,
      recordBytes: list[0].recordBytes,
      samples: list.length,
      recordsPerSecondMedian: median(list.map((s) => s.recordsPerSecond)),
      recordsPerSecondPerRound: list.map((s) => s.recordsPerSecond),
      megabytesPerSecondMedian: median(list.map((s) => s.megabytesPerSecond)),
      complete:
        list.reduce((a, s) => a + s.records, 0) /
        Math.max(
          1,
          list.reduce((a, s) => a + s.expected, 0),
        ),
    }));
  }

  /** Brook's median records/s over the peer's, in one row, with the per-round ratios. */
  ratio(row: string, brook: string, peer: string): Ratio | null {
    const mine = this.samples.filter((s) => s.row === row && s.system === brook);
    const theirs = this.samples.filter((s) => s.row === row && s.system === peer);
    if (mine.length === 0 || theirs.length === 0) return null;
    const perRound = mine.flatMap((m) =>
      theirs.filter((t) => t.round === m.round).map((t) => m.recordsPerSecond / t.recordsPerSecond),
    );
    return {
      row,
      brook,
      peer,
      ratio: median(mine.map((s) => s.recordsPerSecond)) / median(theirs.map((s) => s.recordsPerSecond)),
      perRound,
    };
  }
}

export function consumeTable(rows: ConsumeRow[]): string[] {
  return [
    '| phase | row | consumer | msgs/s (median) | MB/s | per round | read back |',
    '|---|---|---|---:|---:|---|---:|',
    ...rows.map(
      (r) =>
        `| ${r.phase} | ${r.row} | ${r.system} | ${Math.round(r.recordsPerSecondMedian).toLocaleString('en')} | ${r.megabytesPerSecondMedian.toFixed(1)} | ${r.recordsPerSecondPerRound.map((v) => Math.round(v).toLocaleString('en')).join(', ')} | ${(100 * r.complete).toFixed(1)}% |`,
    ),
  ];
}

// ---- End-to-end rows: latency at a fixed offered rate, lower is better. ----

export interface EndToEndSample {
  phase: string;
  system: string;
  row: string;
  round: number;
  sent: number;
  acknowledged: number;
  consumed: number;
  seconds: number;
  errors: Record<string, number>;
  acknowledgement: LatencySummary;
  endToEnd: LatencySummary;
  cpuPercent: { server: number; client: number; machine: number; others: number };
}

export interface EndToEndRow {
  phase: string;
  system: string;
  row: string;
  samples: number;
  sent: number;
  consumed: number;
  /** Over all rounds merged. */
  acknowledgement: LatencySummary;
  endToEnd: LatencySummary;
  errors: Record<string, number>;
  cpuPercentMean: { server: number; client: number; others: number };
}

export class EndToEndCollector {
  readonly samples: EndToEndSample[] = [];
  private readonly histograms = new Map<string, { acknowledgement: hdr.Histogram; endToEnd: hdr.Histogram }>();

  add(
    sample: Omit<EndToEndSample, 'acknowledgement' | 'endToEnd'>,
    acknowledgement: hdr.Histogram,
    endToEnd: hdr.Histogram,
  ): EndToEndSample {
    const full = { ...sample, acknowledgement: summarise(acknowledgement), endToEnd: summarise(endToEnd) };
    this.samples.push(full);
    const key = `${sample.system}|${sample.row}`;
    if (!this.histograms.has(key))
      this.histograms.set(key, { acknowledgement: newHistogram(), endToEnd: newHistogram() });
    this.histograms.get(key)!.acknowledgement.add(acknowledgement);
    this.histograms.get(key)!.endToEnd.add(endToEnd);
    return full;
  }

  rows(): EndToEndRow[] {
    return [...this.histograms].map(([key, histograms]) => {
      const samples = this.samples.filter((s) => `${s.system}|${s.row}` === key);
      const errors: Record<string, number> = {};
      for (const s of samples) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
      const mean = (pick: (s: EndToEndSample) => number) =>
        Math.round(samples.reduce((sum, s) => sum + pick(s), 0) / samples.length);
      return {
        phase: samples[0].phase,
        system: samples[0].system,
        row: samples[0].row,
        samples: samples.length,
        sent: samples.reduce((sum, s) => sum + s.sent, 0),
        consumed: samples.reduce((sum, s) => sum + s.consumed, 0),
        acknowledgement: summarise(histograms.acknowledgement),
        endToEnd: summarise(histograms.endToEnd),
        errors,
        cpuPercentMean: {
          server: mean((s) => s.cpuPercent.server),
          client: mean((s) => s.cpuPercent.client),
          others: mean((s) => s.cpuPercent.others),
        },
      };
    });
  }
}

export function endToEndTable(rows: EndToEndRow[]): string[] {
  const cells = (l: LatencySummary) => `${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${ms(l.p999Ms)} | ${ms(l.maxMs)}`;
  return [
    '| system | consumed / sent | ack p50 ms | ack p99 ms | ack p99.9 ms | ack max ms | end-to-end p50 ms | p99 ms | p99.9 ms | max ms | errors | CPU % server/client/others |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => {
      const c = r.cpuPercentMean;
      return `| ${r.system} | ${r.consumed.toLocaleString('en')} / ${r.sent.toLocaleString('en')} | ${cells(r.acknowledgement)} | ${cells(r.endToEnd)} | ${Object.values(r.errors).reduce((a, b) => a + b, 0)} | ${c.server}/${c.client}/${c.others} |`;
    }),
  ];
}

/** Peer latency over Brook's (above 1: Brook's records arrive sooner). */
export function endToEndRatios(
  rows: EndToEndRow[],
  pairs: [string, string][],
): { row: string; brook: string; peer: string; p50: number; p99: number; p999: number }[] {
  return pairs.flatMap(([brook, peer]) => {
    const mine = rows.find((r) => r.system === brook);
    const theirs = rows.find((r) => r.system === peer);
    if (!mine || !theirs || mine.endToEnd.samples === 0 || theirs.endToEnd.samples === 0) return [];
    return [
      {
        row: mine.row,
        brook,
        peer,
        p50: theirs.endToEnd.p50Ms / mine.endToEnd.p50Ms,
        p99: theirs.endToEnd.p99Ms / mine.endToEnd.p99Ms,
        p999: theirs.endToEnd.p999Ms / mine.endToEnd.p999Ms,
      },
    ];
  });
}
