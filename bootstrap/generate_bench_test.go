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

// BenchmarkMarshalRenderings is Marshal plus the IPv4-only rendering Generate also makes:
// against BenchmarkMarshal, the cost of the second rendering.
func BenchmarkMarshalRenderings(b *testing.B) {
	bs, err := Build(benchSettings())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := marshalRenderings(bs); err != nil {
			b.Fatal(err)
		}
	}
}
