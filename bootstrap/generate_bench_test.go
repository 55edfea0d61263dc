package bootstrap

import "testing"

// benchSettings is the guide's bookbuyer with tracing on.
func benchSettings() Settings {
	t := Defaults("")
	t.Enable = true
	return Settings{ServiceName: "bookbuyer", Tracing: t}
}

func BenchmarkGenerate(b *testing.B) {
	s := benchSettings()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	s := benchSettings()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	bs, err := Build(benchSettings())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(bs); err != nil {
			b.Fatal(err)
		}
	}
}
