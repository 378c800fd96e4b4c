/**
 * Prometheus metrics in the text exposition format, kept by hand (a few counters, one histogram,
 * gauges read at scrape time): no client library needed for this much.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Histogram {
  readonly counts: Array<number>
  sum: number
  count: number
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`

export interface Gauge {
  readonly name: string
  readonly help: string
  /** Samples: label sets and values, read when scraped. */
  readonly read: () => Promise<
    ReadonlyArray<{ readonly labels: Record<string, string>; readonly value: number }>
  >
}

export class Metrics {
  private readonly requests = new Map<string, { labels: Record<string, string>; value: number }>()
  private readonly durations = new Map<string, { labels: Record<string, string>; histogram: Histogram }>()
  private readonly gauges: Array<Gauge> = []
  private readonly counters = new Map<string, { help: string; value: number }>()

  observeRequest(method: string, route: string, status: number, seconds: number) {
    const key = `${method} ${route} ${status}`
    let entry = this.requests.get(key)
    if (entry === undefined) {
      entry = { labels: { method, route, status: String(status) }, value: 0 }
      this.requests.set(key, entry)
    }
    entry.value++
    const hkey = `${method} ${route}`
    let h = this.durations.get(hkey)
    if (h === undefined) {
      h = { labels: { method, route }, histogram: { counts: BUCKETS.map(() => 0), sum: 0, count: 0 } }
      this.durations.set(hkey, h)
    }
    const counts = h.histogram.counts
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= BUCKETS[i]!; i--) counts[i]!++
    h.histogram.sum += seconds
    h.histogram.count++
  }

  increment(name: string, help: string, by = 1) {
    const counter = this.counters.get(name) ?? { help, value: 0 }
    counter.value += by
    this.counters.set(name, counter)
  }

  gauge(gauge: Gauge) {
    this.gauges.push(gauge)
  }

  async render(): Promise<string> {
    const out: Array<string> = []
    out.push("# HELP spaces_http_requests_total HTTP requests by route and status.")
    out.push("# TYPE spaces_http_requests_total counter")
    for (const { labels: l, value } of this.requests.values())
      out.push(`spaces_http_requests_total${labels(l)} ${value}`)
    out.push("# HELP spaces_http_request_duration_seconds HTTP request durations by route.")
    out.push("# TYPE spaces_http_request_duration_seconds histogram")
    for (const { labels: l, histogram: h } of this.durations.values()) {
      for (const [i, bound] of BUCKETS.entries())
        out.push(
          `spaces_http_request_duration_seconds_bucket${labels({ ...l, le: String(bound) })} ${h.counts[i]}`
        )
      out.push(`spaces_http_request_duration_seconds_bucket${labels({ ...l, le: "+Inf" })} ${h.count}`)
      out.push(`spaces_http_request_duration_seconds_sum${labels(l)} ${h.sum}`)
      out.push(`spaces_http_request_duration_seconds_count${labels(l)} ${h.count}`)
    }
    for (const [name, counter] of this.counters) {
      out.push(`# HELP ${name} ${counter.help}`, `# TYPE ${name} counter`, `${name} ${counter.value}`)
    }
    for (const gauge of this.gauges) {
      out.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`)
      for (const sample of await gauge.read())
        out.push(
          `${gauge.name}${Object.keys(sample.labels).length === 0 ? "" : labels(sample.labels)} ${sample.value}`
        )
    }
    return `${out.join("\n")}\n`
  }
}
