// Package docs holds the user and developer documentation as Markdown; its
// tests keep the files that are not prose (the Kubernetes manifest) valid.
package docs

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// The shard manifest is copied by people into their clusters, where a field
// the API does not know is silently dropped by kubectl's client-side
// defaults: a strict decode into the real API types catches it here.
func TestLoadShardsJobIsAValidIndexedJob(t *testing.T) {
	raw, err := os.ReadFile("load-shards-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(raw, &job); err != nil {
		t.Fatalf("load-shards-job.yaml is not a valid batch/v1 Job: %v", err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("apiVersion/kind = %s/%s, want batch/v1/Job", job.APIVersion, job.Kind)
	}
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Fatal("completionMode must be Indexed: the shard number is the completion index")
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
		t.Fatal("completions and parallelism must be set and equal, one pod per shard")
	}
	cs := spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("want one container, got %d", len(cs))
	}
	args := strings.Join(cs[0].Args, " ")
	want := "--shard \"$JOB_COMPLETION_INDEX/" + strconv.Itoa(int(*spec.Completions)) + "\""
	if !strings.Contains(args, want) {
		t.Fatalf("the container's command must pass %s (the shard count equal to completions); got %q", want, args)
	}
}

// The page shows the manifest inline; it must be the file, not a copy
// that drifts from it.
func TestLoadPageShowsTheManifestFile(t *testing.T) {
	raw, err := os.ReadFile("load-shards-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("load.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, append([]byte("```yaml\n"), raw...)) {
		t.Fatal("docs/load.md's yaml block differs from docs/load-shards-job.yaml")
	}
}
