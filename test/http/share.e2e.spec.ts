import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Client, client, request, startTestServer, type TestServer } from "./harness.js"

/** The page's meta tags, as an unfurler reads them (entities decoded). */
const metaOf = (html: string) => {
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&#96;/g, "`")
      .replace(/&amp;/g, "&")
  const tags: Record<string, string> = {}
  for (const m of html.matchAll(/<meta (?:property|name)="([^"]*)" content="([^"]*)">/g))
    tags[decode(m[1]!)] = decode(m[2]!)
  return tags
}

const HOSTILE = `</title><script>alert("x")</script><b x='1'>&amp;`

describe("share links", () => {
  let server: TestServer
  let hana: Client
  beforeAll(async () => {
    server = await startTestServer()
    hana = await client(server.url, "hana")
  })
  afterAll(() => server.close())

  const create = async (host: Client, body: Record<string, unknown>) => {
    const created = await host.call("POST", "/v1/spaces", {
      topics: ["music"],
      speakPolicy: "everyone",
      recording: false,
      captions: false,
      ...body
    })
    expect(created.status).toBe(201)
    return (created.body as { events: Array<{ spaceId: string }> }).events[0]!.spaceId
  }

  it("a live Space unfurls with its title, host, topics, state and listeners, and opens in the web client", async () => {
    const spaceId = await create(hana, { title: "Jazz at noon" })
    const lee = await client(server.url, "lee")
    expect((await lee.call("POST", `/v1/spaces/${spaceId}/join`)).status).toBe(200)

    const page = await request(server.url, "GET", `/s/${spaceId}`)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    const tags = metaOf(page.text)
    expect(tags["og:title"]).toBe("Jazz at noon")
    expect(tags["twitter:title"]).toBe("Jazz at noon")
    expect(tags["twitter:card"]).toBe("summary")
    expect(tags["og:url"]).toBe(`${server.url}/s/${spaceId}`)
    expect(tags["og:description"]).toBe("Live now · 1 listener · hosted by @hana · #music")
    expect(tags["twitter:description"]).toBe(tags["og:description"])
    expect(tags).toMatchObject({
      "spaces:state": "live",
      "spaces:listeners": "1",
      "spaces:host": "hana",
      "spaces:topics": "music"
    })
    expect(page.text).toContain(`<meta http-equiv="refresh" content="0; url=/#/space/${spaceId}">`)
    expect(page.text).toContain(`<a href="/#/space/${spaceId}">`)
  })

  it("a scheduled Space says when; an ended one says so and points at its replay", async () => {
    const at = Date.now() + 2 * 86_400_000
    const scheduled = await create(hana, { title: "Tomorrow's show", scheduledFor: at })
    const soon = metaOf((await request(server.url, "GET", `/s/${scheduled}`)).text)
    expect(soon["spaces:state"]).toBe("scheduled")
    expect(soon["spaces:scheduled-for"]).toBe(new Date(at).toISOString())
    expect(soon["og:description"]).toContain(
      `Scheduled for ${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`
    )

    const sam = await client(server.url, "sam")
    const live = await create(sam, { title: "Short one", topics: [] })
    expect((await sam.call("POST", `/v1/spaces/${live}/end`)).status).toBe(200)
    const page = await request(server.url, "GET", `/s/${live}`)
    const over = metaOf(page.text)
    expect(over["spaces:state"]).toBe("ended")
    expect(over["spaces:recording"]).toBe("none")
    expect(over["og:description"]).toBe("Ended · hosted by @sam")
    expect(page.text).toContain(`<a href="/#/replay/${live}">`)
  })

  it("escapes a hostile title everywhere it appears", async () => {
    const olga = await client(server.url, "olga")
    const spaceId = await create(olga, { title: HOSTILE })
    const page = await request(server.url, "GET", `/s/${spaceId}`)
    expect(page.status).toBe(200)
    expect(page.text).not.toContain("<script>")
    expect(page.text).not.toContain("</title><")
    expect(page.text).not.toContain("<b ")
    expect(page.text).toContain("&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)")
    // The tags still carry the title exactly, once decoded.
    expect(metaOf(page.text)["og:title"]).toBe(HOSTILE)
    expect(page.text.match(/<title>/g)?.length).toBe(1)
  })

  it("an unknown or malformed Space id is a 404 page, not a problem document", async () => {
    for (const id of ["no-such-space", "x".repeat(300), "%3Cscript%3E"]) {
      const page = await request(server.url, "GET", `/s/${id}`)
      expect(page.status).toBe(404)
      expect(page.headers.get("content-type")).toContain("text/html")
      expect(page.text).toContain("Space not found")
      expect(page.text).not.toContain("<script>")
    }
  })
})
