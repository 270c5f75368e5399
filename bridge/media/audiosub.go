package media

// audioSubscription is a receiver's ReceiverAudioSubscription (media.md §1.3), immutable once
// stored: the fan-out reads it per audio packet and destination without a lock. A nil
// *audioSubscription means the receiver never sent one.
type audioSubscription struct {
	all     bool
	include map[string]struct{} // audio source names
	exclude map[string]struct{}
}

// allows reports whether a receiver with subscription s gets the audio source named name.
// Without a subscription every regular source is received; exclude wins over everything;
// with all=false only included sources are received; synthetic (bridge-generated, e.g.
// translated) sources only when named in include (JVB's AudioSubscription semantics).
func (s *audioSubscription) allows(name string, synthetic bool) bool {
	if s == nil {
		return !synthetic
	}
	if _, ok := s.exclude[name]; ok {
		return false
	}
	if _, ok := s.include[name]; ok {
		return true
	}
	return s.all && !synthetic
}

// SetAudioSubscription sets the receiver's ReceiverAudioSubscription: all regular audio
// sources when all is set, plus the sources named in include, minus those in exclude (names
// are audio source names, e.g. "abcd1234-a0"). The slices are not retained.
func (e *Endpoint) SetAudioSubscription(all bool, include, exclude []string) {
	s := &audioSubscription{all: all, include: nameSet(include), exclude: nameSet(exclude)}
	e.audioSub.Store(s)
}

func nameSet(names []string) map[string]struct{} {
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}
