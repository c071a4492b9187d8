#include "reports/label_placement.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hb::reports {

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
  for (const auto& l : labels) {
    Box size = text_box(l.text, font_size);
    LabelPlacement best;
    double best_cost = std::numeric_limits<double>::infinity();
    bool found = false;
    for (size_t r = 0; r < sizeof rings / sizeof rings[0] && !found; ++r) {
      for (const auto& d : dirs) {
        double gap = rings[r];
        // The box edge nearest the marker sits `gap` away from it along the direction.
        double bx = d[0] > 0 ? l.px + gap : d[0] < 0 ? l.px - gap - size.w : l.px - size.w / 2;
        double by = d[1] > 0 ? l.py + gap * 0.6 : d[1] < 0 ? l.py - gap * 0.6 - size.h : l.py - size.h / 2;
        Box b{bx, by, size.w, size.h};
        double cost = 0;
        for (const auto& t : taken) cost += overlap(b, t);
        // Outside the plot area counts like an overlap with something big.
        cost += b.area() - overlap(b, area);
        cost += r * 1e-3;  // prefer near rings among equal costs
        if (cost < best_cost) {
          best_cost = cost;
          best.box = b;
          best.leader = r > 0;
        }
        if (cost < 1e-2) {
          found = true;
          break;
        }
      }
    }
    best.overlaps = !found;
    best.x = best.box.x + 2;
    best.y = best.box.y + 0.98 * font_size;
    taken.push_back(best.box);
    out.push_back(best);
  }
  return out;
}

}  // namespace hb::reports
