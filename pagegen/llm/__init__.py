"""The language-model layer: text embeddings now; titles, descriptions and ranking with the LLM issue."""
