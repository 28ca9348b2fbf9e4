#!/usr/bin/env node
// The `edgecd` command. The server and its flags arrive with the server issue; until then this
// says so and exits non-zero, so nobody mistakes it for a running member.
console.error("edgecd: the server is not built yet (this checkout has the Raft core only); see README.md");
process.exit(1);
