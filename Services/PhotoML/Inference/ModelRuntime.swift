internal import COpenVINO
import Foundation

/// A model compiled for OpenVINO's CPU device: a float tensor in, the model's float
/// tensors out. The compiled model is shared; each run makes its own infer request, so
/// runs may overlap (OpenVINO spreads one over the cores by itself).
final class ModelRuntime: @unchecked Sendable {
    struct Tensor: Sendable, Equatable {
        var shape: [Int]
        var values: [Float]
    }

    struct Failure: Error, CustomStringConvertible {
        let step: String
        let detail: String
        var description: String { "OpenVINO: \(step) failed: \(detail)" }
    }

    private let core: OpaquePointer
    private let compiled: OpaquePointer
    let outputs: Int

    /// Reads an ONNX (or OpenVINO IR) model and compiles it for `device`.
    init(modelPath: String, device: String = "CPU") throws {
        var core: OpaquePointer?
        try Self.check(ov_core_create(&core), "creating the runtime")
        guard let core else { throw Failure(step: "creating the runtime", detail: "no core") }
        var model: OpaquePointer?
        do {
            try Self.check(ov_core_read_model(core, modelPath, nil, &model), "reading \(modelPath)")
        } catch {
            ov_core_free(core)
            throw error
        }
        defer { ov_model_free(model) }
        var compiled: OpaquePointer?
        do {
            try Self.check(ov_core_compile_model_props(core, model, device, 0, nil, &compiled), "compiling for \(device)")
        } catch {
            ov_core_free(core)
            throw error
        }
        guard let compiled else {
            ov_core_free(core)
            throw Failure(step: "compiling for \(device)", detail: "no compiled model")
        }
        var count = 0
        ov_compiled_model_outputs_size(compiled, &count)
        self.core = core
        self.compiled = compiled
        self.outputs = count
    }

    deinit {
        ov_compiled_model_free(compiled)
        ov_core_free(core)
    }

    /// Runs the model once; answers its outputs in order.
    func run(_ input: Tensor) throws -> [Tensor] {
        guard input.shape.reduce(1, *) == input.values.count, !input.shape.isEmpty else {
            throw Failure(step: "preparing the input", detail: "shape \(input.shape) does not hold \(input.values.count) values")
        }
        var request: OpaquePointer?
        try Self.check(ov_compiled_model_create_infer_request(compiled, &request), "creating an infer request")
        defer { ov_infer_request_free(request) }
        var shape = ov_shape_t()
        let dims = input.shape.map { Int64($0) }
        try Self.check(ov_shape_create(Int64(dims.count), dims, &shape), "making the input shape")
        defer { ov_shape_free(&shape) }
        var tensor: OpaquePointer?
        try Self.check(ov_tensor_create(F32, shape, &tensor), "allocating the input")
        defer { ov_tensor_free(tensor) }
        var data: UnsafeMutableRawPointer?
        try Self.check(ov_tensor_data(tensor, &data), "reaching the input's memory")
        guard let data else { throw Failure(step: "reaching the input's memory", detail: "no data") }
        input.values.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { data.copyMemory(from: source, byteCount: bytes.count) }
        }
        try Self.check(ov_infer_request_set_input_tensor(request, tensor), "setting the input")
        try Self.check(ov_infer_request_infer(request), "inferring")
        return try (0..<outputs).map { index in
            var output: OpaquePointer?
            try Self.check(ov_infer_request_get_output_tensor_by_index(request, index, &output), "reading output \(index)")
            defer { ov_tensor_free(output) }
            var outputShape = ov_shape_t()
            try Self.check(ov_tensor_get_shape(output, &outputShape), "reading output \(index)'s shape")
            defer { ov_shape_free(&outputShape) }
            let dimensions = (0..<Int(outputShape.rank)).map { Int(outputShape.dims[$0]) }
            var type = DYNAMIC
            try Self.check(ov_tensor_get_element_type(output, &type), "reading output \(index)'s type")
            guard type == F32 else { throw Failure(step: "reading output \(index)", detail: "its elements are not 32-bit floats") }
            var values: UnsafeMutableRawPointer?
            try Self.check(ov_tensor_data(output, &values), "reading output \(index)'s values")
            let count = dimensions.reduce(1, *)
            guard let values else { return Tensor(shape: dimensions, values: []) }
            return Tensor(shape: dimensions, values: Array(UnsafeBufferPointer(start: values.assumingMemoryBound(to: Float.self), count: count)))
        }
    }

    private static func check(_ status: ov_status_e, _ step: String) throws {
        guard status != OK else { return }
        let message = ov_get_last_err_msg().map { String(cString: $0) } ?? ""
        throw Failure(step: step, detail: "\(String(cString: ov_get_error_info(status))) \(message)".trimmingCharacters(in: .whitespaces))
    }
}
