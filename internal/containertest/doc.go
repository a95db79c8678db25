// Package containertest runs the deploy files for real: it builds the image
// of deploy/Dockerfile, brings up the demo federation of deploy/compose.yaml
// with Docker, cuts a node off the network, kills another, and checks that
// the three converge with every acknowledged entry.
//
// It needs a Docker engine and runs only with CAISSE_CONTAINER_TEST=1
// (make container-test); with that set and no engine answering, it fails.
package containertest
