import Foundation
import ServiceKit

/// Where plants stand: a warehouse holds areas, an area holds locations (a bed, bench or
/// tray block). Only a location holds stock and is photographed.
enum LocationKind: String, Codable, Sendable, CaseIterable {
    case warehouse, area, location

    /// The kind a parent of this kind must have; nil for a warehouse, which has none.
    var parentKind: LocationKind? {
        switch self {
        case .warehouse: nil
        case .area: .warehouse
        case .location: .area
        }
    }
}

/// How a location's photos turn into a stock estimate.
struct Calibration: Codable, Sendable, Equatable {
    /// Plants expected per m² when the location is full.
    var plantsPerSquareMetre: Double?
    /// The camera's height above the plants, for the perspective of depth bands.
    var cameraHeightMetres: Double?
    /// The photo split into depth bands, top to bottom, each with the ground it shows.
    var bands: [Band]?

    struct Band: Codable, Sendable, Equatable {
        /// The band's top and bottom as fractions of the photo's height (0 is the top).
        var top: Double
        var bottom: Double
        var areaSquareMetres: Double
    }
}

struct Location: Codable, Sendable, Equatable {
    var id: UUID
    var kind: LocationKind
    var parentId: UUID?
    var name: String
    var code: String?
    var surfaceSquareMetres: Double?
    var calibration: Calibration?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var etag: String { "\"v\(version)\"" }
}

/// The body of `POST /v1/inventory/locations`.
struct NewLocationInput: Decodable, Sendable {
    var kind: LocationKind
    var parentId: UUID?
    var name: String
    var code: String?
    var surfaceSquareMetres: Double?
    var calibration: Calibration?
}

/// The body of `PATCH /v1/inventory/locations/{id}`: kind and parent do not change.
struct LocationPatch: Decodable, Sendable {
    var name: PatchField<String> = .absent
    var code: PatchField<String> = .absent
    var surfaceSquareMetres: PatchField<Double> = .absent
    var calibration: PatchField<Calibration> = .absent

    enum CodingKeys: String, CodingKey { case name, code, surfaceSquareMetres, calibration }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.patch(.name)
        code = try c.patch(.code)
        surfaceSquareMetres = try c.patch(.surfaceSquareMetres)
        calibration = try c.patch(.calibration)
    }
}

enum LocationRules {
    static func name(_ value: String, _ v: inout Validator) -> String {
        v.text(value, "name", max: 200) ?? ""
    }

    static func code(_ value: String?, _ v: inout Validator) -> String? {
        guard let value else { return nil }
        return v.text(value, "code", max: 64)
    }

    /// Surface and calibration belong to a location only.
    static func surface(_ value: Double?, kind: LocationKind, _ v: inout Validator) {
        guard let value else { return }
        v.check(kind == .location, "surfaceSquareMetres", "only a location (not a warehouse or area) has a surface")
        v.check(value.isFinite && value > 0 && value <= 1_000_000, "surfaceSquareMetres", "must be above 0 and at most 1,000,000")
    }

    static func calibration(_ value: Calibration?, kind: LocationKind, _ v: inout Validator) {
        guard let value else { return }
        v.check(kind == .location, "calibration", "only a location (not a warehouse or area) has a calibration")
        if let density = value.plantsPerSquareMetre {
            v.check(density.isFinite && density > 0 && density <= 100_000, "calibration.plantsPerSquareMetre", "must be above 0 and at most 100,000")
        }
        if let height = value.cameraHeightMetres {
            v.check(height.isFinite && height > 0 && height <= 500, "calibration.cameraHeightMetres", "must be above 0 and at most 500")
        }
        guard let bands = value.bands else { return }
        v.check(!bands.isEmpty && bands.count <= 20, "calibration.bands", "must hold 1 to 20 bands")
        var previousBottom = 0.0
        for (index, band) in bands.enumerated() {
            let field = "calibration.bands[\(index)]"
            let inside = [band.top, band.bottom].allSatisfy { $0.isFinite && (0...1).contains($0) }
            v.check(inside && band.top < band.bottom, field, "top and bottom must be fractions of the photo's height, top above bottom")
            v.check(band.top >= previousBottom, field, "bands must run top to bottom without overlapping")
            v.check(band.areaSquareMetres.isFinite && band.areaSquareMetres > 0, field, "areaSquareMetres must be above 0")
            previousBottom = band.bottom
        }
    }
}
