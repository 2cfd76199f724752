// OpenVINO's C API, from the PyPI wheel that infra/dev/install.sh unpacks into
// .dev/openvino (Package.swift points the compiler and linker there).
#include <openvino/c/openvino.h>
