package main

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// check enforces what docs/DEPLOY.md promises of every render of the chart.
func (r *rendered) check(want string) error {
	var errs []error
	for _, k := range strings.Split(want, ",") {
		if k != "" && r.kinds[k] == 0 {
			errs = append(errs, fmt.Errorf("no %s rendered", k))
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} {
		if r.kinds[k] != 1 {
			errs = append(errs, fmt.Errorf("want exactly one %s, got %d", k, r.kinds[k]))
		}
	}
	for _, d := range r.deployments {
		errs = append(errs, r.checkDeployment(d)...)
	}
	return errors.Join(errs...)
}

func (r *rendered) checkDeployment(d *appsv1.Deployment) []error {
	var errs []error
	bad := func(f string, a ...any) {
		errs = append(errs, fmt.Errorf("deployment %s: "+f, append([]any{d.Name}, a...)...))
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	sqlite := len(r.pvcs) > 0 || hasPVCVolume(d)
	switch {
	case sqlite && replicas != 1:
		bad("SQLite (a PVC) with %d replicas", replicas)
	case sqlite && d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType:
		bad("SQLite needs the Recreate strategy, got %q", d.Spec.Strategy.Type)
	case !sqlite && d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType:
		bad("PostgreSQL replicas should roll, got strategy %q", d.Spec.Strategy.Type)
	}
	pod := d.Spec.Template
	for _, a := range []string{"checksum/config", "checksum/secret"} {
		if pod.Annotations[a] == "" {
			bad("pod template lacks the %s annotation that rolls pods on change", a)
		}
	}
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		bad("pod securityContext.runAsNonRoot is not true")
	}
	if ps == nil || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("pod seccompProfile is not RuntimeDefault")
	}
	if ps == nil || ps.RunAsUser == nil || *ps.RunAsUser != 65532 {
		bad("pod does not run as uid 65532")
	}
	if len(pod.Spec.Containers) != 1 {
		bad("want one container, got %d", len(pod.Spec.Containers))
		return errs
	}
	c := pod.Spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		bad("container has no securityContext")
	default:
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			bad("container root filesystem is not read-only")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad("container allows privilege escalation")
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
			bad("container does not drop ALL capabilities")
		}
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
			bad("%s probe is not GET %s", name, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		bad("container lacks cpu/memory requests or a memory limit")
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = true
	}
	for _, p := range []string{"/tmp", "/etc/dispatchoor"} {
		if !mounts[p] {
			bad("nothing mounted at %s", p)
		}
	}
	if sqlite && !mounts["/data"] {
		bad("SQLite without a volume at /data")
	}
	return errs
}

func hasPVCVolume(d *appsv1.Deployment) bool {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return true
		}
	}
	return false
}
