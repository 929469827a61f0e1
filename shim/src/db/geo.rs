//! Geo queries on GeoJSON values (longitude first), as CloudBase's `db.Geo` types.
//!
//! Points, LineStrings, Polygons and their Multi forms are read; `$geoWithin` and
//! `$geoIntersects` are exact for points against (multi)polygons and approximate otherwise
//! (vertex tests, planar edges in lon/lat); distances are great-circle (haversine, metres),
//! as `$nearSphere` with a 2dsphere index.

use crate::db::value::as_num;
use bson::{Bson, Document};

/// A GeoJSON geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    Point((f64, f64)),
    MultiPoint(Vec<(f64, f64)>),
    LineString(Vec<(f64, f64)>),
    MultiLineString(Vec<Vec<(f64, f64)>>),
    /// Rings: the first is the outer boundary, the others holes.
    Polygon(Vec<Vec<(f64, f64)>>),
    MultiPolygon(Vec<Vec<Vec<(f64, f64)>>>),
}

fn pos(v: &Bson) -> Option<(f64, f64)> {
    let Bson::Array(a) = v else { return None };
    if a.len() < 2 {
        return None;
    }
    Some((as_num(&a[0])?.as_f64(), as_num(&a[1])?.as_f64()))
}

fn list<T>(v: &Bson, f: impl Fn(&Bson) -> Option<T>) -> Option<Vec<T>> {
    let Bson::Array(a) = v else { return None };
    a.iter().map(f).collect()
}

impl Geometry {
    /// Read a GeoJSON document.
    pub fn from_bson(v: &Bson) -> Option<Geometry> {
        let Bson::Document(d) = v else { return None };
        Geometry::from_doc(d)
    }

    fn from_doc(d: &Document) -> Option<Geometry> {
        let c = d.get("coordinates")?;
        Some(match d.get_str("type").ok()? {
            "Point" => Geometry::Point(pos(c)?),
            "MultiPoint" => Geometry::MultiPoint(list(c, pos)?),
            "LineString" => Geometry::LineString(list(c, pos)?),
            "MultiLineString" => Geometry::MultiLineString(list(c, |l| list(l, pos))?),
            "Polygon" => Geometry::Polygon(list(c, |l| list(l, pos))?),
            "MultiPolygon" => Geometry::MultiPolygon(list(c, |p| list(p, |l| list(l, pos)))?),
            _ => return None,
        })
    }

    fn points(&self) -> Vec<(f64, f64)> {
        match self {
            Geometry::Point(p) => vec![*p],
            Geometry::MultiPoint(ps) | Geometry::LineString(ps) => ps.clone(),
            Geometry::MultiLineString(ls) | Geometry::Polygon(ls) => ls.concat(),
            Geometry::MultiPolygon(ps) => ps.iter().flat_map(|p| p.concat()).collect(),
        }
    }

    fn polygons(&self) -> Vec<&Vec<Vec<(f64, f64)>>> {
        match self {
            Geometry::Polygon(p) => vec![p],
            Geometry::MultiPolygon(ps) => ps.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// The point of a GeoJSON Point value (or a legacy `[lng, lat]` pair).
pub(crate) fn point_of(v: &Bson) -> Option<(f64, f64)> {
    match Geometry::from_bson(v) {
        Some(Geometry::Point(p)) => Some(p),
        _ => pos(v),
    }
}

/// The Earth radius MongoDB uses for spherical geometry, in metres.
pub(crate) const EARTH_RADIUS_M: f64 = 6_378_100.0;

/// Every vertex of a geometry.
pub(crate) fn all_points(g: &Geometry) -> Vec<(f64, f64)> {
    g.points()
}

/// Great-circle distance in metres.
pub(crate) fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = EARTH_RADIUS_M;
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = lon2 - lon1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

fn in_ring(p: (f64, f64), ring: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if on_segment(p, ring[i], ring[j]) {
            return true;
        }
        if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn on_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> bool {
    let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
    cross.abs() < 1e-12
        && p.0 >= a.0.min(b.0)
        && p.0 <= a.0.max(b.0)
        && p.1 >= a.1.min(b.1)
        && p.1 <= a.1.max(b.1)
}

fn in_polygon(p: (f64, f64), poly: &[Vec<(f64, f64)>]) -> bool {
    match poly.split_first() {
        Some((outer, holes)) => in_ring(p, outer) && !holes.iter().any(|h| in_ring(p, h)),
        None => false,
    }
}

fn point_in(p: (f64, f64), area: &Geometry) -> bool {
    area.polygons().iter().any(|poly| in_polygon(p, poly))
}

/// `$geoWithin`: every point of `doc` lies in the (multi)polygon `area`.
pub(crate) fn within(doc: &Geometry, area: &Geometry) -> bool {
    let pts = doc.points();
    !pts.is_empty() && pts.iter().all(|p| point_in(*p, area))
}

/// `$geoIntersects`: the geometries share a point (exact for points vs polygons and points vs
/// points; other shapes by vertex containment and segment crossing).
pub(crate) fn intersects(doc: &Geometry, q: &Geometry) -> bool {
    let (dp, qp) = (doc.points(), q.points());
    if dp.iter().any(|p| point_in(*p, q)) || qp.iter().any(|p| point_in(*p, doc)) {
        return true;
    }
    if dp.iter().any(|a| qp.iter().any(|b| a == b)) {
        return true;
    }
    let segs = |g: &Geometry| -> Vec<((f64, f64), (f64, f64))> {
        let lines: Vec<Vec<(f64, f64)>> = match g {
            Geometry::LineString(l) => vec![l.clone()],
            Geometry::MultiLineString(ls) | Geometry::Polygon(ls) => ls.clone(),
            Geometry::MultiPolygon(ps) => ps.iter().flat_map(|p| p.clone()).collect(),
            _ => Vec::new(),
        };
        lines
            .iter()
            .flat_map(|l| l.windows(2).map(|w| (w[0], w[1])).collect::<Vec<_>>())
            .collect()
    };
    let (sa, sb) = (segs(doc), segs(q));
    if sa.iter().any(|a| sb.iter().any(|b| segments_cross(*a, *b))) {
        return true;
    }
    // A point on a line.
    dp.iter()
        .any(|p| sb.iter().any(|s| on_segment(*p, s.0, s.1)))
        || qp
            .iter()
            .any(|p| sa.iter().any(|s| on_segment(*p, s.0, s.1)))
}

fn segments_cross(a: ((f64, f64), (f64, f64)), b: ((f64, f64), (f64, f64))) -> bool {
    let o = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| {
        let v = (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0);
        if v > 0.0 {
            1
        } else if v < 0.0 {
            -1
        } else {
            0
        }
    };
    let (p1, q1) = a;
    let (p2, q2) = b;
    let (o1, o2, o3, o4) = (o(p1, q1, p2), o(p1, q1, q2), o(p2, q2, p1), o(p2, q2, q1));
    o1 != o2 && o3 != o4 && o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0
}
