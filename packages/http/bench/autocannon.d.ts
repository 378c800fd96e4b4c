/** The part of autocannon@9's API the benchmark uses (the package ships no types). */
declare module "autocannon" {
  interface RequestSpec {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    requests?: Array<RequestSpec & { setupRequest?: (req: RequestSpec) => RequestSpec }>
  }
  interface Histogram {
    average: number
    p99: number
    p50: number
  }
  interface Result {
    requests: Histogram & { total: number }
    latency: Histogram
    errors: number
    non2xx: number
    statusCodeStats: Record<string, { count: number }>
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
