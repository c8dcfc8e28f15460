package server

import (
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// errQueueFull and errQueueTimeout end a wait for a compare slot or for
// memory; both are answered 503 with Retry-After.
var (
	errQueueFull    = errors.New("queue full")
	errQueueTimeout = errors.New("queue wait timed out")
)

// admission holds the two resources a comparison needs, in a fixed order
// (memory, then a compare slot, so two requests never wait for each other's
// resource): a share of the process-wide memory budget and a compare slot.
// Both are FIFO weighted semaphores (golang.org/x/sync/semaphore), so
// requests are served in arrival order and a large request is not starved
// by small ones.
type admission struct {
	slots     *semaphore.Weighted
	nslots    int64
	mem       *semaphore.Weighted
	budget    int64
	maxQueue  int64
	queueWait time.Duration

	waiting  atomic.Int64 // requests waiting for memory or a slot
	inUse    atomic.Int64 // compare slots held
	memInUse atomic.Int64 // bytes of budget held

	// serviceNs is a moving average of the time a slot is held, for an
	// honest Retry-After.
	serviceNs atomic.Int64
}

func newAdmission(slots int, budget int64, maxQueue int, wait time.Duration) *admission {
	return &admission{
		slots:     semaphore.NewWeighted(int64(slots)),
		nslots:    int64(slots),
		mem:       semaphore.NewWeighted(budget),
		budget:    budget,
		maxQueue:  int64(maxQueue),
		queueWait: wait,
	}
}

// ticket is what acquire gives: release it exactly once per resource.
type ticket struct {
	a     *admission
	mem   int64
	slot  bool
	start time.Time
	once  sync.Once
	memMu sync.Once
}

// acquire waits, in arrival order, for mem bytes of budget and a compare
// slot, up to the queue timeout (or ctx). The caller has checked mem ≤
// budget. It returns errQueueFull at once when MaxQueue requests are
// already waiting.
func (a *admission) acquire(ctx context.Context, mem int64) (*ticket, time.Duration, error) {
	start := time.Now()
	t := &ticket{a: a}
	if mem > 0 && a.mem.TryAcquire(mem) {
		t.mem = mem
		a.memInUse.Add(mem)
	}
	if (mem == 0 || t.mem > 0) && a.slots.TryAcquire(1) {
		t.slot, t.start = true, time.Now()
		a.inUse.Add(1)
		return t, 0, nil
	}
	if a.waiting.Add(1) > a.maxQueue {
		a.waiting.Add(-1)
		t.releaseMem()
		return nil, 0, errQueueFull
	}
	defer a.waiting.Add(-1)
	qctx, cancel := context.WithTimeout(ctx, a.queueWait)
	defer cancel()
	if mem > 0 && t.mem == 0 {
		if err := a.mem.Acquire(qctx, mem); err != nil {
			return nil, time.Since(start), queueErr(ctx, err)
		}
		t.mem = mem
		a.memInUse.Add(mem)
	}
	if err := a.slots.Acquire(qctx, 1); err != nil {
		t.releaseMem()
		return nil, time.Since(start), queueErr(ctx, err)
	}
	t.slot, t.start = true, time.Now()
	a.inUse.Add(1)
	return t, time.Since(start), nil
}

func queueErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errQueueTimeout
}

// releaseSlot gives the compare slot back (once) and updates the average
// service time.
func (t *ticket) releaseSlot() {
	t.once.Do(func() {
		if !t.slot {
			return
		}
		d := time.Since(t.start).Nanoseconds()
		old := t.a.serviceNs.Load()
		if old == 0 {
			t.a.serviceNs.Store(d)
		} else {
			t.a.serviceNs.Store(old + (d-old)/8)
		}
		t.a.inUse.Add(-1)
		t.a.slots.Release(1)
	})
}

// releaseMem gives the memory back (once).
func (t *ticket) releaseMem() {
	t.memMu.Do(func() {
		if t.mem > 0 {
			t.a.memInUse.Add(-t.mem)
			t.a.mem.Release(t.mem)
		}
	})
}

// retryAfter estimates when a new request would get a slot: the queue
// ahead of it divided by the slots, times the average service time, at
// least min and at most a minute.
func (a *admission) retryAfter(min time.Duration) string {
	avg := time.Duration(a.serviceNs.Load())
	d := time.Duration(float64(avg) * float64(a.waiting.Load()+a.inUse.Load()+1) / float64(a.nslots))
	d = max(d, min)
	d = min2(d, time.Minute)
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

func min2(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

// DefaultMemoryBudget is the budget used when Options.MemoryBudget is 0 and
// no container memory limit is found: with the models (about 100 MB) and
// the request bodies it keeps a process of default settings well under
// 600 MB.
const DefaultMemoryBudget = 320 << 20

// MemoryBudgetFor derives the decode memory budget from a container memory
// limit (bytes; 0 = none): half the limit, at least 128 MB, or
// DefaultMemoryBudget without a limit.
func MemoryBudgetFor(limit int64) int64 {
	if limit <= 0 {
		return DefaultMemoryBudget
	}
	return max(limit/2, 128<<20)
}

// CgroupMemoryLimit returns the memory limit of the process's cgroup (v2
// memory.max, or v1 memory.limit_in_bytes), or 0 when none is set or it
// cannot be read.
func CgroupMemoryLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 || v >= 1<<60 { // v1 reports "no limit" as a huge number
			return 0
		}
		return v
	}
	return 0
}

// clientLimiter caps the requests in progress per remote address (off when
// max is 0).
type clientLimiter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func (c *clientLimiter) acquire(addr string) bool {
	if c.max <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[addr] >= c.max {
		return false
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[addr]++
	return true
}

func (c *clientLimiter) release(addr string) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[addr]--; c.n[addr] <= 0 {
		delete(c.n, addr)
	}
}
