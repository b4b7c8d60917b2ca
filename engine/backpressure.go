package engine

import (
	"sync"
	"time"
)

// Backpressure as Flink reports it since 1.13: per subtask the share of
// wall time it was blocked waiting for downstream capacity
// (backPressuredTimeMsPerSecond / 1000, the REST ratio), measured over the
// time since the previous sample (at least backpressureWindow), and a level
// with the REST handler's thresholds. A job that is not running has none.

// backpressureWindow is the shortest time a ratio is measured over.
const backpressureWindow = time.Second

// Backpressure levels, spelled as Flink's REST API (VertexBackPressureLevel).
const (
	BackpressureOK   = "ok"
	BackpressureLow  = "low"
	BackpressureHigh = "high"
)

// BackpressureLevel is Flink's level for a ratio: ok up to 0.10, low up to
// 0.5, high above.
func BackpressureLevel(ratio float64) string {
	switch {
	case ratio <= 0.10:
		return BackpressureOK
	case ratio <= 0.5:
		return BackpressureLow
	}
	return BackpressureHigh
}

// bpSampler turns the cumulative blocked time of each subtask into ratios.
type bpSampler struct {
	mu     sync.Mutex
	at     time.Time
	prev   map[[2]int]time.Duration // (vertex, subtask) → cumulative blocked time
	ratios map[[2]int]float64
}

// ratio is subtask s of vertex v's latest ratio; sample first.
func (b *bpSampler) ratio(v, s int) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ratios[[2]int{v, s}]
}

// sample records the cumulative figures at now; once the window has
// passed since the previous sample, the ratios are recomputed from the
// difference. A restart resets the counters: a drop counts as zero.
func (b *bpSampler) sample(now time.Time, cum map[[2]int]time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prev != nil && now.Sub(b.at) < backpressureWindow {
		return
	}
	if b.prev != nil {
		span := now.Sub(b.at)
		b.ratios = map[[2]int]float64{}
		for k, c := range cum {
			d := c - b.prev[k]
			if d < 0 {
				d = 0
			}
			b.ratios[k] = min(float64(d)/float64(span), 1)
		}
	}
	b.prev, b.at = cum, now
}

func (b *bpSampler) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prev, b.ratios = nil, nil
}
