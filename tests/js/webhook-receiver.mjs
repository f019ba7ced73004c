// A webhook receiver that verifies OpenMint's deliveries with the `standardwebhooks` npm package.
// usage: node webhook-receiver.mjs <port> <count> <secret> [<secret> ...]
// Listens on 127.0.0.1:<port>, answers 204 to deliveries every secret verifies (400 otherwise, and exits 1),
// and once <count> distinct webhook-ids verified prints {"verified": n, "signature_entries": [...], "events": [...]} and exits 0.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const [port, count, ...secrets] = process.argv.slice(2);
const verifiers = secrets.map((s) => new Webhook(s.replace(/^whsec_/, "")));
const seen = new Map();
const entries = new Set();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": req.headers["webhook-id"],
      "webhook-timestamp": req.headers["webhook-timestamp"],
      "webhook-signature": req.headers["webhook-signature"],
    };
    try {
      for (const v of verifiers) {
        const event = v.verify(body, headers);
        if (event.event_id !== headers["webhook-id"]) throw new Error(`event_id ${event.event_id} != webhook-id ${headers["webhook-id"]}`);
      }
    } catch (e) {
      res.writeHead(400).end();
      console.error(`verification failed for ${headers["webhook-id"]}: ${e.message}`);
      process.exit(1);
    }
    entries.add(headers["webhook-signature"].split(" ").length);
    seen.set(headers["webhook-id"], JSON.parse(body).event_name);
    res.writeHead(204).end();
    if (seen.size >= Number(count)) {
      console.log(JSON.stringify({ verified: seen.size, signature_entries: [...entries], events: [...new Set(seen.values())] }));
      server.close();
      process.exit(0);
    }
  });
});
server.listen(Number(port), "127.0.0.1");
setTimeout(() => {
  console.error(`timed out with ${seen.size} of ${count} verified`);
  process.exit(2);
}, 60_000);
