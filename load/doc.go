// Package load runs one checked script many times at once and measures
// it: smtprun's load mode. Run drives Config.Connections conversations
// concurrently, each a whole run of the program on the engine in lean
// mode (no transcript), for a number of iterations or a duration, in a
// closed model (a new iteration as soon as one ends) or an open one
// (iterations started at a fixed rate, their latency measured from when
// they were due, so a slow server is not hidden by coordinated omission).
//
// Latencies go into HDR histograms (github.com/HdrHistogram/hdrhistogram-go),
// exact to three significant digits and mergeable, so shards run on
// several machines merge into the same Report as one process would give
// (Merge). A Report renders as text (WriteSummary) and as JSON with the
// histograms encoded.
//
// Dependencies go one way: cmd -> load -> engine, dsl.
package load
