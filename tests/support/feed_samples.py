"""Small feeds in each format parse_feed reads: the tests' cases and the fuzzer's seeds."""

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://ex.com/1</link></item>
<item><title>Two</title><link> https://ex.com/2 </link></item></channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><entry><title>A</title><link rel="alternate" href="https://ex.com/a"/>
<id>tag:ex.com,2024:a</id><updated>2024-01-01T00:00:00Z</updated></entry></feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://ex.com/"><title>t</title>
<link>https://ex.com/</link></channel><item rdf:about="https://ex.com/b"><title>B</title>
<link>https://ex.com/b</link></item></rdf:RDF>"""
RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>t</title>
<item><title>Old</title><link>https://ex.com/old</link></item></channel></rss>"""
