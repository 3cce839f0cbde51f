import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers /health without auth", async () => {
  const response = await exports.default.fetch("http://example.com/health");
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ result: { status: "ok" } });
});
