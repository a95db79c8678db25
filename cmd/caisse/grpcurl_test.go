package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGrpcurl checks that grpcurl, with server reflection, lists the
// services on the operator socket and can call them.
func TestGrpcurl(t *testing.T) {
	p := startNode(t)
	out, err := exec.Command("go", "tool", "grpcurl", "-plaintext", "-unix", p.Socket, "list").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	for _, svc := range []string{"caisse.rpc.v1.Operator", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(string(out), svc) {
			t.Errorf("grpcurl list does not show %s:\n%s", svc, out)
		}
	}
	out, err = exec.Command("go", "tool", "grpcurl", "-plaintext", "-unix", p.Socket, "caisse.rpc.v1.Operator/Status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"federationName": "Local federation"`) {
		t.Fatalf("grpcurl Status: %v\n%s", err, out)
	}
	out, err = exec.Command("go", "tool", "grpcurl", "-plaintext", "-unix", p.Socket, "grpc.health.v1.Health/Check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SERVING") {
		t.Fatalf("grpcurl health check: %v\n%s", err, out)
	}
}
