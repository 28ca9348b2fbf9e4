// msgpackr requires this optionally and uses its JavaScript decoder when it throws.
throw new Error("msgpackr-extract is not installed (see package.json)");
