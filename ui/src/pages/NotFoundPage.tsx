import { Link } from 'react-router'

export function NotFoundPage() {
  return (
    <section className="py-10 text-center">
      <h1 className="text-xl font-semibold">Not found</h1>
      <Link to="/" className="text-indigo-700 underline">
        Back to the groups
      </Link>
    </section>
  )
}
