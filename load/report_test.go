package load

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestSummaryGolden pins the summary's layout with known values: 1000
// EHLO replies of 1..1000 µs give exact percentiles.
func TestSummaryGolden(t *testing.T) {
	var rec recorder
	var batch []sample
	for us := int64(1); us <= 1000; us++ {
		batch = append(batch, sample{"EHLO", us}, sample{Conversation, us * 1000})
	}
	batch = append(batch, sample{Connect, 250}, sample{MessageReply, 1500})
	rec.add(batch)
	lat, err := rec.latencies()
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{Script: "submit.smtp", Connections: 20, Shard: "1/4", Duration: 2500 * time.Millisecond,
		Planned: 1000, OK: 998, Failed: 2, Messages: 998, Handshakes: 1000, Resumed: 980, Latencies: lat,
		Failures: []*Failure{{Reason: "451 4.7.1 Greylisted", Code: 451, Count: 2, File: "submit.smtp", Line: 14, Source: "expect 250", Iteration: 7}}}
	var b bytes.Buffer
	rep.WriteSummary(&b)
	golden := "testdata/summary.golden"
	if *update {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("summary differs from %s (go test ./load -update):\n%s", golden, b.String())
	}
	if l := rep.Latency("EHLO"); l.P50 != 500 || l.P99 != 990 || l.Max != 1000 {
		t.Errorf("EHLO percentiles %+v", l)
	}
}
