/**
 * The part of autocannon's API (v9, which ships no types) the load driver uses, from its README's
 * "API" and "Results" sections.
 */
declare module 'autocannon' {
  interface Histogram {
    min: number;
    max: number;
    average: number;
    p50: number;
    p90: number;
    p99: number;
    total: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }
  interface Options {
    url: string | string[];
    connections?: number;
    amount?: number;
    duration?: number;
    /** Seconds. */
    timeout?: number;
    headers?: Record<string, string>;
  }
  interface Instance {
    stop(): void;
  }
  function autocannon(options: Options, callback: (error: unknown, result: Result) => void): Instance;
  export default autocannon;
}
