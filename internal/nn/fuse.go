package nn

// FuseActivations returns a copy of g in which every Activate node whose
// input is produced by a node without an activation, read by nothing else
// and not returned, is folded into that producer (its Act and Slope move
// there). Loaders use it after turning a file's separate activation
// operators into Activate nodes; the result computes the same values with
// fewer steps. Node slices (weights) are shared with g, not copied.
func FuseActivations(g *Graph) *Graph {
	readers := make([]int, len(g.Nodes)+1)
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			readers[v]++
		}
	}
	for _, o := range g.Outputs {
		readers[o]++
	}
	out := &Graph{Input: g.Input}
	remap := make([]int, len(g.Nodes)+1) // old value → new value
	for i, n := range g.Nodes {
		n.Inputs = append([]int(nil), n.Inputs...)
		for k, v := range n.Inputs {
			n.Inputs[k] = remap[v]
		}
		if n.Op == Activate && n.Act != None {
			src := g.Nodes[i].Inputs[0]
			if src > 0 && readers[src] == 1 && g.Nodes[src-1].Act == None {
				p := &out.Nodes[remap[src]-1]
				p.Act, p.Slope = n.Act, n.Slope
				remap[i+1] = remap[src]
				continue
			}
		}
		out.Nodes = append(out.Nodes, n)
		remap[i+1] = len(out.Nodes)
	}
	for _, o := range g.Outputs {
		out.Outputs = append(out.Outputs, remap[o])
	}
	return out
}
