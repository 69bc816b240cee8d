# The real Kubernetes the harness builds (sourced). Every cached build is keyed by these values.
# Debian bookworm's kubernetes source package is the v1.20.2 tree despite its version string.
KRD_K8S_DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
KRD_K8S_VERSION=1.20.2
