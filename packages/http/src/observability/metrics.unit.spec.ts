import { describe, expect, it } from "vitest"
import { Metrics } from "./metrics.js"

describe("request metrics", () => {
  it("count requests by route and status, and durations in cumulative buckets", async () => {
    const metrics = new Metrics()
    metrics.observeRequest("GET", "GET /v1/feed", 200, 0.003)
    metrics.observeRequest("GET", "GET /v1/feed", 200, 0.03)
    metrics.observeRequest("GET", "GET /v1/feed", 401, 0.01)
    metrics.observeRequest("GET", "GET /v1/feed", 200, 20)
    const lines = (await metrics.render()).split("\n")
    const value = (prefix: string) =>
      lines
        .find((l) => l.startsWith(prefix))
        ?.split(" ")
        .at(-1)
    const requests = 'spaces_http_requests_total{method="GET",route="GET /v1/feed",status='
    expect(value(`${requests}"200"}`)).toBe("3")
    expect(value(`${requests}"401"}`)).toBe("1")
    const bucket = (le: string) =>
      value(`spaces_http_request_duration_seconds_bucket{method="GET",route="GET /v1/feed",le="${le}"}`)
    // 0.003 ≤ every bound; 0.01 from 0.01 up; 0.03 from 0.05 up; 20 only in +Inf.
    expect(["0.005", "0.01", "0.025", "0.05", "10", "+Inf"].map(bucket)).toEqual([
      "1",
      "2",
      "2",
      "3",
      "3",
      "4"
    ])
    expect(value('spaces_http_request_duration_seconds_count{method="GET",route="GET /v1/feed"}')).toBe("4")
  })
})
