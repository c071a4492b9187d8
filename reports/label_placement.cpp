#include "reports/label_placement.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hb::reports {

namespace {
// Distance from a point to the nearest point of a box (0 inside).
double distance(double px, double py, const Box& b) {
  double dx = std::max({b.x - px, 0.0, px - (b.x + b.w)});
  double dy = std::max({b.y - py, 0.0, py - (b.y + b.h)});
  return std::hypot(dx, dy);
}
}  // namespace

double overlap(const Box& a, const Box& b) {
  double w = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
  double h = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

Box text_box(const std::string& text, double font_size) {
  // Count characters, not UTF-8 bytes.
  double chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80 ? 1 : 0;
  return {0, 0, chars * 0.64 * font_size + 4, 1.3 * font_size};
}

std::vector<LabelPlacement> place_labels(const std::vector<LabelRequest>& labels, const Box& area,
                                         const std::vector<Box>& obstacles, double font_size) {
  std::vector<LabelPlacement> out;
  std::vector<Box> taken = obstacles;
  // Directions as (dx, dy) unit steps: right, left, up-right, down-right, up-left, down-left, up, down.
  const double dirs[8][2] = {{1, 0}, {-1, 0}, {1, -1}, {1, 1}, {-1, -1}, {-1, 1}, {0, -1}, {0, 1}};
  const double rings[] = {7, 20, 34, 50, 68, 90, 115};
  struct Candidate {
    Box box;
    size_t ring = 0;
    double hard = 0;         // overlap with placed labels and markers, plus area outside the plot
    bool ambiguous = false;  // nearer to another marker than to its own
  };
  for (const auto& l : labels) {
    Box size = text_box(l.text, font_size);
    std::vector<Candidate> cands;
    for (size_t r = 0; r < sizeof rings / sizeof rings[0]; ++r) {
      for (const auto& d : dirs) {
        double gap = rings[r];
        // The box edge nearest the marker sits `gap` away from it along the direction.
        double bx = d[0] > 0 ? l.px + gap : d[0] < 0 ? l.px - gap - size.w : l.px - size.w / 2;
        double by = d[1] > 0 ? l.py + gap * 0.6 : d[1] < 0 ? l.py - gap * 0.6 - size.h : l.py - size.h / 2;
        Candidate c{{bx, by, size.w, size.h}, r, 0, false};
        for (const auto& t : taken) c.hard += overlap(c.box, t);
        c.hard += c.box.area() - overlap(c.box, area);  // outside the plot counts like an overlap
        // Ambiguous: another marker is nearer to the box's edge, or to its middle, than the label's own marker.
        const double own = distance(l.px, l.py, c.box);
        const double mx = c.box.x + c.box.w / 2, my = c.box.y + c.box.h / 2;
        const double own_mid = std::hypot(l.px - mx, l.py - my);
        for (const auto& m : obstacles) {
          double cx = m.x + m.w / 2, cy = m.y + m.h / 2;
          if (std::hypot(cx - l.px, cy - l.py) <= 0.5) continue;  // its own marker
          if (distance(cx, cy, c.box) + 1 < own || std::hypot(cx - mx, cy - my) + 1 < own_mid) c.ambiguous = true;
        }
        cands.push_back(c);
      }
    }
    // First choice: free and unambiguous, nearest ring first; then free; then the least overlap.
    const Candidate* pick = nullptr;
    for (const auto& c : cands)
      if (!pick && c.hard < 1e-2 && !c.ambiguous) pick = &c;
    for (const auto& c : cands)
      if (!pick && c.hard < 1e-2) pick = &c;
    if (!pick)
      for (const auto& c : cands)
        if (!pick || c.hard < pick->hard) pick = &c;
    LabelPlacement best;
    best.box = pick->box;
    best.overlaps = pick->hard >= 1e-2;
    best.leader = pick->ring > 0 || pick->ambiguous;
    best.x = best.box.x + 2;
    best.y = best.box.y + 0.98 * font_size;
    taken.push_back(best.box);
    out.push_back(best);
  }
  return out;
}

}  // namespace hb::reports
