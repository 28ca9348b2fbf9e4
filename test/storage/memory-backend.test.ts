/** MemoryBackend (src/storage/memory-backend.ts) against the shared Backend conformance suite. */
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { runBackendConformance } from "./backend-conformance.js";

runBackendConformance("MemoryBackend", () => new MemoryBackend());
