package speaker

import "math"

// Constants of jitsi-utils DominantSpeakerIdentification (media.md §2.9). The paper works on
// frequency sub-bands; JVB substitutes the 0..127 RFC 6464 level range cut into N1 sub-units.
const (
	maxLevel        = 127
	n1              = 13                            // sub-units of the level range ("sub-bands")
	n1SubunitLength = (maxLevel + n1 - 1) / n1      // 10
	n2              = 5                             // immediates per medium
	n3              = 10                            // mediums per long
	historyLength   = n2 * n3                       // 50 levels, about 1 s at 20 ms ptime
	mediumThreshold = 7                             // an immediate counts toward a medium when > 7
	longThreshold   = 4                             // a medium counts toward the long when > 4
	minLevelWindow  = 15 * 1000 / 20                // 750 levels (15 s at 20 ms) per noise-floor update
	minScore        = 1e-10                         // score floor: scores are divided and logged
	lambdaImmediate = 0.78                          // λ of the immediate score
	lambdaMedium    = 24.0                          // λ of the medium score
	lambdaLong      = 47.0                          // λ of the long score
	c1Threshold     = 3.0                           // challenger needs ln(imm ratio) > 3
	c2Threshold     = 2.0                           // … and ln(medium ratio) > 2
	c3Threshold     = 0.0                           // … and ln(long ratio) > 0
	speakerIdleMs   = 60 * 60 * 1000                // non-dominant speakers idle for 1 h are forgotten
	levelIdleMs     = int64(LevelIdleTimeout / 1e6) // 40
)

// Score is the speech activity score of Volfin & Cohen for vL active units out of nR, with
// p = 0.5: ln C(nR,vL) + vL·ln p + (nR−vL)·ln(1−p) − ln λ + λ·vL, floored at 1e-10 so that
// ratios and logarithms of scores stay defined.
func Score(vL, nR int, lambda float64) float64 {
	const lnHalf = -math.Ln2
	s := math.Log(float64(binomial(nR, vL))) + float64(vL)*lnHalf + float64(nR-vL)*lnHalf -
		math.Log(lambda) + lambda*float64(vL)
	if s < minScore {
		return minScore
	}
	return s
}

// binomial is C(n, r) for the small arguments used here (n ≤ 13), computed exactly in integers
// as JVB does: each partial product t·i/j is itself a binomial coefficient.
func binomial(n, r int) int64 {
	if r < 0 || r > n {
		return 0
	}
	if r < n-r {
		r = n - r
	}
	t := int64(1)
	for i, j := n, 1; i > r; i, j = i-1, j+1 {
		t = t * int64(i) / int64(j)
	}
	return t
}

// activity reduces a level history (newest first) to the three counts the scores use:
// the newest immediate, the newest medium and the long.
//
//   - immediates[i] = level[i]/10, or 0 when level[i] < minLevel+10 (the speaker's noise floor
//     is mapped to absolute silence so that speakers with different floors compete fairly);
//   - mediums[j] = how many of immediates[5j..5j+4] exceed 7;
//   - long = how many of the 10 mediums exceed 4.
func activity(levels *[historyLength]uint8, minLevel uint8) (immediate0, medium0, long int) {
	floor := int(minLevel) + n1SubunitLength
	for j := 0; j < n3; j++ {
		medium := 0
		for i := j * n2; i < (j+1)*n2; i++ {
			immediate := 0
			if l := int(levels[i]); l >= floor {
				immediate = l / n1SubunitLength
			}
			if i == 0 {
				immediate0 = immediate
			}
			if immediate > mediumThreshold {
				medium++
			}
		}
		if j == 0 {
			medium0 = medium
		}
		if medium > longThreshold {
			long++
		}
	}
	return immediate0, medium0, long
}

// scores are a speaker's immediate, medium and long speech activity scores.
type scores [3]float64

func scoresOf(immediate0, medium0, long int) scores {
	return scores{
		Score(immediate0, n1, lambdaImmediate),
		Score(medium0, n2, lambdaMedium),
		Score(long, n3, lambdaLong),
	}
}

// challenges reports whether a speaker with scores s beats the dominant speaker's d, and its
// medium-term relative activity c2, used to rank several challengers.
func challenges(s, d scores) (c2 float64, ok bool) {
	c1 := math.Log(s[0] / d[0])
	c2 = math.Log(s[1] / d[1])
	c3 := math.Log(s[2] / d[2])
	return c2, c1 > c1Threshold && c2 > c2Threshold && c3 > c3Threshold
}
